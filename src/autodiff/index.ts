// Public API of reverse-mode autodiff.
export { backward, type BackwardResult, type GradientValue } from './backward.ts';
export { gradientRules } from './rules/index.ts';
export { AutodiffError, type GradientContext, type GradientRule, type GradientRules, type RowGradient } from './types.ts';
