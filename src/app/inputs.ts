// What the CLI needs from below app/ to parse and check its flags (the value rules a flag
// shares with the config key it overrides, the names of bases and variants), offered by app/
// so the CLI imports app/ only (README "Design").
export * from '../config/constants.js';
export * from '../config/value-rules.js';
export type { Arch } from '../config/schema.js';
export * from '../render/variant.js';
export type { PushLayerEvent } from '../docker/push.js';
