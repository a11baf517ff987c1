export { WardenError, isWardenError, errnoCode, type Evidence, type WardenErrorOptions } from './warden-error.ts';
export { messageOf } from './message-of.ts';
export { escapeName, unescapeName, EscapedNameError } from './escape-name.ts';
export { editDistance, nearestNames, didYouMean } from './did-you-mean.ts';
