// The sandbox's own error, importable without loading the sandbox (web-standard, like the rest of /testing).
import { WhatsAppError } from "../../errors.js";

/** The package real media needs, and the version the sandbox is tested with. */
export const MEDIA_PACKAGE = "werift";
export const MEDIA_PACKAGE_VERSION = "0.25.2";

/** Real media was asked for (`media: true`), and the optional WebRTC package cannot be loaded. */
export class SandboxMediaUnavailableError extends WhatsAppError {
  static override name = "SandboxMediaUnavailableError";
  /** The package to install. */
  readonly packageName = MEDIA_PACKAGE;
  constructor(cause: unknown) {
    super(
      `The sandbox's real media needs the optional peer dependency "${MEDIA_PACKAGE}", which could not be loaded. ` +
        `Install it with: npm install --save-dev ${MEDIA_PACKAGE}@${MEDIA_PACKAGE_VERSION} (or start the sandbox with media: false).`,
      { cause },
    );
  }
}
