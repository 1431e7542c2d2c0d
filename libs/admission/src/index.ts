export { describeProblems } from "./result.js";
export type { FieldError, ValidationResult } from "./result.js";
export { MAX_KIND_LENGTH, validateComposition } from "./validate-composition.js";
export type { CompositionDeps, ServedResource, UserInfo } from "./validate-composition.js";
export { startCompositionFacts } from "./composition-facts.js";
export type { CompositionFacts, CompositionFactsOptions } from "./composition-facts.js";
export { OriginalText, withOriginal } from "./original-messages.js";
export { containerDefaults, quotaCoverageErrors } from "./quota-coverage.js";
export type { ContainerDefaults } from "./quota-coverage.js";
