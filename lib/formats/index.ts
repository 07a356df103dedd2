/** Both registry formats: schemas and types, detection, parsing, conversion, hashing, versions. */
export * from './upstream-schema.ts';
export * from './toolhive-schema.ts';
export { detectFormat, detectShape, describeDocument, type DocumentShape, type RegistryFormat } from './detect.ts';
export { parseRegistryDocument, parseRegistryValue, type ParseOptions, type ParsedDocument, type ValidationMode } from './parse.ts';
export { DEFAULT_MAX_BYTES, DEFAULT_MAX_DEPTH, decodeUtf8, parseJsonText, type DuplicateKey, type JsonTextOptions } from './json-text.ts';
export { checkDepth } from './depth.ts';
export { formatPath, joinPath, type PathSegment } from './json-path.ts';
export type { Problem } from './issues.ts';
export { TOOLHIVE_NAMESPACE, assignToolhiveKeys, buildReverseDnsName, extractSimpleName } from './names.ts';
export { readExtension, normalizeToolDefinitions, type Extension } from './toolhive-extension.ts';
export { TOOLHIVE_VERSION, imageToServerJson, remoteToServerJson, toolhiveEntryToServerJson } from './toolhive-to-upstream.ts';
export { primaryExtensionKey, serverJsonToToolhive, targetPort, toolhiveKindOf, type ToolhiveConverted } from './upstream-to-toolhive.ts';
export {
  DEFAULT_REGISTRY_VERSION,
  rfc3339Now,
  toServerList,
  toolhiveToUpstream,
  toolhiveToUpstreamFile,
  upstreamToToolhive,
  type SkippedServer,
  type ToolhiveConversion,
  type UpstreamToToolhiveOptions,
} from './registry-conversion.ts';
export { canonicalJson, writeCanonicalJson, type CanonicalOptions, type KeyFilter } from './canonical-json.ts';
export { contentHash, createContentHasher, omitTimestamps, type ContentHasher } from './content-hash.ts';
export { compareSemver, compareVersions, parseSemver, pickLatest, responseCandidate, type Semver, type VersionCandidate } from './versions.ts';
