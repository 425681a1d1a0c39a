// Imported first by main.ts, so it runs before the rest of the CLI loads: for the inner
// loop's commands, the engine is asked what it is (GET /version) at once and answers while
// commander and the command's own modules load; connectEngine takes the answer. The command
// is argv's first word: program options (-v, -h) never precede these commands' names.
import { askEngineEarly } from '../docker/engine.js';

/** Commands whose first engine call is connectEngine's GET /version. */
const ENGINE_FIRST = new Set(['build', 'invoke', 'start']);

if (ENGINE_FIRST.has(process.argv[2] ?? '')) askEngineEarly();
