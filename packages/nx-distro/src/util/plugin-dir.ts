import path from 'node:path';

/** Absolute folder of the nx-distro package (where its package.json is), wherever it is installed. */
export const PLUGIN_DIR = path.resolve(__dirname, '..', '..');
