/** Options of the `nx-distro:boot` executor (see schema.json). */
export interface BootExecutorOptions {
  /** System target name (a file `targets/<name>.yaml`). */
  systemTarget?: string;
  /** Boot modes to run, in order; default both (`initramfs`, then `layers`). */
  modes?: Array<'initramfs' | 'layers'>;
  /** Time limit of one boot, seconds; default the target's `image.boot_timeout_seconds`. */
  timeoutSeconds?: number;
}
