// Every number of Lambda's that the local Lambda enforces, in one place: payload and response
// sizes, the queue in front of an environment, the environment's own limits and its phases'
// time budgets. Emulator, servers and commands import them from here and nowhere else.

/** Lambda's synchronous payload limit for the event. */
export const MAX_PAYLOAD_BYTES = 6 * 1024 * 1024;
/** The largest response the Lambda sandbox accepts from a runtime: 6 MiB + 100 bytes (rapid's limit). */
export const MAX_RESPONSE_BYTES = 6 * 1024 * 1024 + 100;
/** The largest streamed response Lambda passes on (200 MB by default since July 2025; it was 20 MB). */
export const MAX_STREAMED_RESPONSE_BYTES = 200 * 1024 * 1024;
/** Lambda's payload limit for an asynchronous (`Event`) invoke: 1 MB, against 6 MB for a synchronous one. */
export const MAX_ASYNC_PAYLOAD_BYTES = 1024 * 1024;
/**
 * The HTTP fronts' limit on the request line and headers together: API Gateway's documented
 * 10,240 bytes ("Total combined size of request line and header values"), applied to every
 * front; past it the request is refused (431), never passed on with headers left out.
 */
export const MAX_FRONT_HEADER_BYTES = 10_240;
/** X-Amz-Log-Result carries the end of the invoke's log, at most this many bytes (as Lambda). */
export const LOG_RESULT_BYTES = 4096;

/**
 * Requests accepted and not answered yet may wait for an environment, but not without bound:
 * past `concurrency` running plus this many waiting, or past their payload budget (below), the
 * front answers 429 as Lambda throttles.
 */
export const MAX_WAITING_REQUESTS = 1000;
/** Payload bytes held by waiting requests: ten full 6 MB payloads beyond the running ones. */
export const WAITING_PAYLOAD_BUDGET = 10 * MAX_PAYLOAD_BYTES;
/** How long `start` keeps running accepted Event invokes after Ctrl-C, at least. */
export const EVENT_DRAIN_MS = 60_000;

/** Lambda's limit on processes and threads in one execution environment (extensions and the init shell included). */
export const LAMBDA_PIDS_LIMIT = 1024;
/** Lambda's limit on open files per execution environment (the nofile ulimit, soft and hard). */
export const LAMBDA_NOFILE_LIMIT = 1024;
/**
 * Not Lambda's number but Podman's need: given any ulimit, Podman drops its containers.conf
 * defaults and, rootful, raises the process limit to the kernel's maximum, which a host without
 * CAP_SYS_RESOURCE refuses. So environments on Podman name one it may keep (the processes
 * themselves are capped at LAMBDA_PIDS_LIMIT by the pids cgroup).
 */
export const PODMAN_NPROC_LIMIT = 32768;
/** Lambda's limit on the init phase. */
export const INIT_TIMEOUT_MS = 10_000;
/** Shutdown budget with external extensions, then SIGKILL. */
export const SHUTDOWN_BUDGET_MS = 2_000;
/** Shutdown budget when only internal extensions registered (the runtime's own SIGTERM handling). */
export const INTERNAL_SHUTDOWN_BUDGET_MS = 500;
/**
 * After answering, a runtime has what is left of the invoke's time to ask for its next event
 * (Lambda counts that phase in the invoke), and at least this much: an environment whose
 * runtime neither asks nor exits by then is replaced rather than handed the next invoke.
 */
export const RUNTIME_NEXT_GRACE_MS = 2_000;

/**
 * Runtime API connections one environment may hold at once (lambda-image's bound, not a Lambda
 * number: a runtime and its extensions use a handful); past it new connections are closed.
 */
export const MAX_RUNTIME_API_CONNECTIONS = 64;
/** A Runtime API connection that sends no request headers within this is closed (ms). */
export const RUNTIME_API_IDLE_MS = 10_000;
