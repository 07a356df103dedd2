export { FilterSet, FilterSpec } from './spec.ts';
export { globToRegExp, globsToRegExp } from './glob.ts';
export { categoriesOf, serverJsonSubject, serverResponseSubject, toolhiveSubject, type FilterSubject } from './subject.ts';
export { compileFilter, matchesFilter, type CompiledFilter } from './match.ts';
export { filterServerJsons, filterServerResponses, filterToolhiveRegistry } from './apply.ts';
export { filterHash, normalizeFilter } from './hash.ts';
