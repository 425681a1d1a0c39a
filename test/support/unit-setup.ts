// Set-up for the fast unit tests: the CLI is compiled (tests run bin/lambda-image as a user
// would), and nothing else: no engine, no stand-in images.
import { compileCli } from './global-setup.js';

export default function setup(): void {
  compileCli();
}
