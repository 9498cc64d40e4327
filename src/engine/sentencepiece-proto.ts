// Reads a SentencePiece `.model` file (a serialized `sentencepiece.ModelProto`, protobuf v2) into plain data.
// Only the fields the tokenizer needs are decoded; everything else is skipped. The wire format is read with
// protobufjs's low-level Reader, so no .proto schema has to ship with the daemon. Defaults are the ones
// sentencepiece_model.proto declares (proto2 leaves unset fields out of the file).
import protobuf from "protobufjs/minimal.js";
import { EngineError } from "./types.js";

/** ModelProto.SentencePiece.Type, by its proto number. */
export const PieceType = {
  NORMAL: 1,
  UNKNOWN: 2,
  CONTROL: 3,
  USER_DEFINED: 4,
  UNUSED: 5,
  BYTE: 6,
} as const;
export type PieceTypeNumber = (typeof PieceType)[keyof typeof PieceType];

/** TrainerSpec.ModelType, by its proto number. */
export const ModelType = { UNIGRAM: 1, BPE: 2, WORD: 3, CHAR: 4 } as const;

export interface ProtoPiece {
  piece: string;
  /** float32 as stored (already widened to a JS number; comparisons stay exact). */
  score: number;
  type: PieceTypeNumber;
}

export interface ProtoTrainerSpec {
  modelType: number;
  vocabSize: number;
  treatWhitespaceAsSuffix: boolean;
  byteFallback: boolean;
  unkId: number;
  bosId: number;
  eosId: number;
  padId: number;
  unkSurface: string;
  userDefinedSymbols: string[];
  controlSymbols: string[];
}

export interface ProtoNormalizerSpec {
  name: string;
  precompiledCharsmapLength: number;
  addDummyPrefix: boolean;
  removeExtraWhitespaces: boolean;
  escapeWhitespaces: boolean;
}

export interface ProtoModel {
  pieces: ProtoPiece[];
  trainer: ProtoTrainerSpec;
  normalizer: ProtoNormalizerSpec;
  /** Present when the file carries a denormalizer_spec. */
  denormalizer?: ProtoNormalizerSpec;
}

type Reader = protobuf.Reader;

/** Calls `field(number, wireType)` for each field of the message that ends at `end`; unread fields are skipped. */
function readFields(r: Reader, end: number, field: (num: number, wire: number) => boolean): void {
  while (r.pos < end) {
    const tag = r.uint32();
    const num = tag >>> 3;
    const wire = tag & 7;
    if (num === 0) throw new Error(`invalid field number 0 at byte ${r.pos}`);
    if (!field(num, wire)) r.skipType(wire);
  }
  if (r.pos !== end) throw new Error("a message overruns its length");
}

function expectWire(num: number, wire: number, want: number): void {
  if (wire !== want) throw new Error(`field ${num} has wire type ${wire}, expected ${want}`);
}

function subEnd(r: Reader): number {
  const len = r.uint32();
  const end = r.pos + len;
  if (end > r.len) throw new Error("a sub-message is longer than the file");
  return end;
}

function readPiece(r: Reader): ProtoPiece {
  const end = subEnd(r);
  const p: ProtoPiece = { piece: "", score: 0, type: PieceType.NORMAL };
  readFields(r, end, (num, wire) => {
    if (num === 1) (expectWire(num, wire, 2), (p.piece = r.string()));
    else if (num === 2) (expectWire(num, wire, 5), (p.score = r.float()));
    else if (num === 3) {
      expectWire(num, wire, 0);
      const t = r.int32();
      if (t < 1 || t > 6) throw new Error(`piece type ${t} is not a SentencePiece type`);
      p.type = t as PieceTypeNumber;
    } else return false;
    return true;
  });
  return p;
}

function defaultTrainer(): ProtoTrainerSpec {
  return {
    modelType: ModelType.UNIGRAM,
    vocabSize: 8000,
    treatWhitespaceAsSuffix: false,
    byteFallback: false,
    unkId: 0,
    bosId: 1,
    eosId: 2,
    padId: -1,
    unkSurface: " \u2047 ",
    userDefinedSymbols: [],
    controlSymbols: [],
  };
}

function readTrainer(r: Reader): ProtoTrainerSpec {
  const end = subEnd(r);
  const t = defaultTrainer();
  readFields(r, end, (num, wire) => {
    switch (num) {
      case 3: expectWire(num, wire, 0); t.modelType = r.int32(); return true;
      case 4: expectWire(num, wire, 0); t.vocabSize = r.int32(); return true;
      case 24: expectWire(num, wire, 0); t.treatWhitespaceAsSuffix = r.bool(); return true;
      case 35: expectWire(num, wire, 0); t.byteFallback = r.bool(); return true;
      case 40: expectWire(num, wire, 0); t.unkId = r.int32(); return true;
      case 41: expectWire(num, wire, 0); t.bosId = r.int32(); return true;
      case 42: expectWire(num, wire, 0); t.eosId = r.int32(); return true;
      case 43: expectWire(num, wire, 0); t.padId = r.int32(); return true;
      case 44: expectWire(num, wire, 2); t.unkSurface = r.string(); return true;
      case 30: expectWire(num, wire, 2); t.controlSymbols.push(r.string()); return true;
      case 31: expectWire(num, wire, 2); t.userDefinedSymbols.push(r.string()); return true;
      default: return false;
    }
  });
  return t;
}

function defaultNormalizer(): ProtoNormalizerSpec {
  return {
    name: "",
    precompiledCharsmapLength: 0,
    addDummyPrefix: true,
    removeExtraWhitespaces: true,
    escapeWhitespaces: true,
  };
}

function readNormalizer(r: Reader): ProtoNormalizerSpec {
  const end = subEnd(r);
  const n = defaultNormalizer();
  readFields(r, end, (num, wire) => {
    switch (num) {
      case 1: expectWire(num, wire, 2); n.name = r.string(); return true;
      case 2: expectWire(num, wire, 2); n.precompiledCharsmapLength = r.bytes().length; return true;
      case 3: expectWire(num, wire, 0); n.addDummyPrefix = r.bool(); return true;
      case 4: expectWire(num, wire, 0); n.removeExtraWhitespaces = r.bool(); return true;
      case 5: expectWire(num, wire, 0); n.escapeWhitespaces = r.bool(); return true;
      default: return false;
    }
  });
  return n;
}

/**
 * Decodes the ModelProto fields the tokenizer uses. Throws EngineError MODEL_INVALID when the bytes are not a
 * well-formed ModelProto (truncated, wrong wire types, no pieces). `source` names the file in messages.
 */
export function readModelProto(bytes: Uint8Array, source = "tokenizer model"): ProtoModel {
  const r = protobuf.Reader.create(bytes);
  const model: ProtoModel = {
    pieces: [],
    trainer: defaultTrainer(),
    normalizer: defaultNormalizer(),
  };
  try {
    readFields(r, r.len, (num, wire) => {
      if (num >= 1 && num <= 5) expectWire(num, wire, 2);
      if (num === 1) model.pieces.push(readPiece(r));
      else if (num === 2) model.trainer = readTrainer(r);
      else if (num === 3) model.normalizer = readNormalizer(r);
      else if (num === 5) model.denormalizer = readNormalizer(r);
      else return false;
      return true;
    });
  } catch (err) {
    throw new EngineError(
      `${source} is not a SentencePiece model (protobuf ModelProto): ${(err as Error).message}`,
      "MODEL_INVALID",
    );
  }
  if (model.pieces.length === 0) {
    throw new EngineError(`${source} is not a SentencePiece model: it has no pieces`, "MODEL_INVALID");
  }
  return model;
}
