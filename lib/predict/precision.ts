// The number formats prediction runs the network in; free of the addon, so that the CLI's help
// and checks can name them without loading libtorch.

/** The number formats the network can predict in. */
export const PRECISIONS = ['float32', 'float16', 'bfloat16'] as const;
/** One of {@link PRECISIONS}. */
export type Precision = (typeof PRECISIONS)[number];
