/** The `image` input: the original is an image an earlier step built, taken as it is. */
import { ImageNotFoundError, inspectImage } from '../engine/images.js';
import { GivenImageMissingError } from './errors.js';
import type { RunContext } from './prepare.js';

/** The given image's id; it is measured as it is and never built, tagged or removed. */
export async function givenImage(run: RunContext, image: string): Promise<string> {
  try {
    const facts = await inspectImage(run.docker, image);
    run.hooks.info(`${image} is ${facts.id.slice(0, 19)}: measured as it is, not built`);
    return facts.id;
  } catch (error) {
    if (error instanceof ImageNotFoundError) throw new GivenImageMissingError(image);
    throw error;
  }
}
