/** The errors a run stops with, each telling the user what to do next. */
import type { ReportFiles, SlimpyReport } from '../model/report.js';

export class ContextMissingError extends Error {
  constructor(context: string) {
    super(
      `The build context ${context} does not exist or is not a directory. ` +
        'Set `context` (--context) to the directory your Dockerfile builds from.',
    );
    this.name = 'ContextMissingError';
  }
}

export class DockerfileMissingError extends Error {
  constructor(file: string) {
    super(
      `No Dockerfile at ${file}. Set \`file\` (--file) to the Dockerfile's path, or \`context\` to its directory.`,
    );
    this.name = 'DockerfileMissingError';
  }
}

/** The `image` input names an image the engine does not have. */
export class GivenImageMissingError extends Error {
  constructor(image: string) {
    super(
      `The image ${image} given in \`image\` (--image) is not in this engine. Build it in an earlier step ` +
        'on the engine slimpy uses (DOCKER_HOST): `docker build -t NAME .`, or docker/build-push-action ' +
        'with `load: true` and the default `docker` driver; then pass that NAME.',
    );
    this.name = 'GivenImageMissingError';
  }
}

/** The Dockerfile needs BuildKit and this engine only gets the classic builder from slimpy. */
export class BuildKitRequiredError extends Error {
  constructor(uses: string, why: string) {
    super(
      `The Dockerfile needs BuildKit (${uses}), but slimpy has to use the classic builder on this engine: ${why} ` +
        'Run slimpy on Docker Engine >= 27.5 or on the classic (overlay2) image store, or avoid those features.',
    );
    this.name = 'BuildKitRequiredError';
  }
}

/**
 * The smoke test fails where it must pass. `outcome` holds what slim mode found up to then and
 * `partial` the whole report so far, so the session still publishes the sizes and the output.
 */
export class SmokeBrokenError extends Error {
  outcome: Pick<SlimpyReport, 'slim' | 'smoke' | 'after' | 'trace'> | undefined;
  partial: { report: SlimpyReport; files: ReportFiles } | undefined;
  constructor(message: string) {
    super(message);
    this.name = 'SmokeBrokenError';
  }
}
