import { describe, expect, it } from 'vitest';
import { FerryError } from '../../src/core/errors.js';
import {
  MANIFEST_ACCEPT,
  MediaType,
  distributableLayerType,
  isConfig,
  isForeignLayer,
  isImageManifest,
  isIndex,
  isLayer,
  isManifest,
  isSchema1,
  refuseSchema1,
} from '../../src/core/media-types.js';

type Key = keyof typeof MediaType;
const PREDICATES = { isIndex, isImageManifest, isManifest, isSchema1, isConfig, isForeignLayer, isLayer } as const;
type Pred = keyof typeof PREDICATES;

// Every constant → the predicates that must be true for it (all others false).
const TABLE: Record<Key, Pred[]> = {
  ociIndex: ['isIndex', 'isManifest'],
  ociManifest: ['isImageManifest', 'isManifest'],
  ociConfig: ['isConfig'],
  ociLayer: ['isLayer'],
  ociLayerGzip: ['isLayer'],
  ociLayerZstd: ['isLayer'],
  ociLayerNondistributable: ['isLayer', 'isForeignLayer'],
  ociLayerNondistributableGzip: ['isLayer', 'isForeignLayer'],
  ociLayerNondistributableZstd: ['isLayer', 'isForeignLayer'],
  ociEmpty: [],
  dockerManifestList: ['isIndex', 'isManifest'],
  dockerManifest: ['isImageManifest', 'isManifest'],
  dockerConfig: ['isConfig'],
  dockerLayer: ['isLayer'],
  dockerForeignLayer: ['isLayer', 'isForeignLayer'],
  dockerSchema1: ['isSchema1'],
  dockerSchema1Signed: ['isSchema1'],
  cosignSimpleSigning: [],
  dsseEnvelope: [],
  octetStream: [],
};

describe('media type predicates', () => {
  it('the table covers every MediaType constant', () => {
    expect(Object.keys(TABLE).sort()).toEqual(Object.keys(MediaType).sort());
  });

  it.each(Object.entries(TABLE) as [Key, Pred[]][])('%s', (key, truthy) => {
    const mt = MediaType[key];
    for (const [name, pred] of Object.entries(PREDICATES) as [Pred, (mt: string | undefined) => boolean][]) {
      expect({ name, result: pred(mt) }).toEqual({ name, result: truthy.includes(name) });
    }
  });

  it('unknown, undefined and near-miss strings match nothing', () => {
    const others = [undefined, '', 'application/json', `${MediaType.ociManifest} `, MediaType.ociManifest.toUpperCase(), 'application/vnd.oci.image.manifest.v1+json; charset=utf-8'];
    for (const mt of others) {
      for (const pred of Object.values(PREDICATES)) expect(pred(mt)).toBe(false);
    }
  });
});

describe('distributableLayerType', () => {
  it.each([
    [MediaType.dockerForeignLayer, MediaType.dockerLayer],
    [MediaType.ociLayerNondistributable, MediaType.ociLayer],
    [MediaType.ociLayerNondistributableGzip, MediaType.ociLayerGzip],
    [MediaType.ociLayerNondistributableZstd, MediaType.ociLayerZstd],
  ])('%s → %s', (foreign, plain) => {
    expect(distributableLayerType(foreign)).toBe(plain);
    expect(isForeignLayer(distributableLayerType(foreign))).toBe(false);
    expect(isLayer(distributableLayerType(foreign))).toBe(true);
  });

  it('leaves every other type alone', () => {
    for (const mt of Object.values(MediaType).filter((m) => !isForeignLayer(m))) expect(distributableLayerType(mt)).toBe(mt);
    expect(distributableLayerType('application/x-custom')).toBe('application/x-custom');
  });
});

describe('MANIFEST_ACCEPT and refuseSchema1', () => {
  it('accepts exactly the four manifest types, no schema 1', () => {
    expect([...MANIFEST_ACCEPT].sort()).toEqual(
      [MediaType.ociIndex, MediaType.ociManifest, MediaType.dockerManifestList, MediaType.dockerManifest].sort(),
    );
    expect(MANIFEST_ACCEPT.some((mt) => isSchema1(mt))).toBe(false);
  });

  it('refuses schema 1 with ERR_UNSUPPORTED_MEDIA_TYPE and a hint, passes anything else', () => {
    for (const mt of [MediaType.dockerSchema1, MediaType.dockerSchema1Signed]) {
      let err: unknown;
      try {
        refuseSchema1(mt, 'docker.io/library/old:1');
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(FerryError);
      expect((err as FerryError).code).toBe('ERR_UNSUPPORTED_MEDIA_TYPE');
      expect((err as FerryError).message).toContain('docker.io/library/old:1');
      expect((err as FerryError).hint).toContain('re-push');
    }
    expect(() => refuseSchema1(MediaType.dockerManifest, 'x')).not.toThrow();
    expect(() => refuseSchema1(undefined, 'x')).not.toThrow();
  });
});
