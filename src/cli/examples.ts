// Two or three examples per command, shown after its --help and on its docs page. Kept apart
// from the option declarations so a command's flags read as one block in commands.ts.
import type { Command } from 'commander';
import { addExamples } from './reference.js';

export const EXAMPLES: Record<string, string[]> = {
  init: [
    'lambda-image init',
    'lambda-image init --base alpine --rie',
    'lambda-image init --function orders=cmd/orders --function users=cmd/users',
  ],
  build: [
    'lambda-image build',
    'lambda-image build --variants aws,alpine,alpine-rie',
    'lambda-image build --function orders --tag v2',
  ],
  'add-extension': [
    'lambda-image add-extension arn:aws:lambda:eu-west-1:123456789012:layer:my-extension:3',
    'lambda-image add-extension --from-zip ./extension.zip --name my-extension',
  ],
  'extensions list': ['lambda-image extensions list', 'lambda-image extensions list --json'],
  'extensions remove': [
    'lambda-image extensions remove my-extension',
    'lambda-image extensions remove my-extension --function orders',
  ],
  invoke: [
    'lambda-image invoke -d \'{"name":"world"}\'',
    'lambda-image invoke --event-example sqs --set "Records[0].body=hi"',
    "lambda-image invoke --http 'GET /items?x=1' -H 'Accept: application/json'",
  ],
  start: [
    'lambda-image start',
    'lambda-image start --watch --http-port 8080',
    'lambda-image start --http-port 8080 --http-event http-api --concurrency 2',
  ],
  events: ['lambda-image events', 'lambda-image events sqs --set "Records[0].body=hi"'],
  push: ['lambda-image push --repository orders --create-repository', 'lambda-image push --json'],
  deploy: [
    'lambda-image deploy --repository orders --function-name orders --role arn:aws:iam::123456789012:role/orders-exec',
    'lambda-image deploy --dev',
    'lambda-image deploy --url --url-auth NONE',
  ],
  doctor: ['lambda-image doctor', 'lambda-image doctor --json | jq \'.findings[] | select(.status != "ok")\''],
  'ci github': ['lambda-image ci github --region eu-west-1', 'lambda-image ci github --dry-run'],
  completion: [
    'lambda-image completion bash > /etc/bash_completion.d/lambda-image',
    'lambda-image completion zsh > "${fpath[1]}/_lambda-image"',
    'lambda-image completion fish > ~/.config/fish/completions/lambda-image.fish',
  ],
};

/** Gives every command its examples, by its path (`ci github`). */
export function applyExamples(program: Command): void {
  const walk = (cmd: Command, prefix: string[]) => {
    for (const sub of cmd.commands) {
      const words = [...prefix, sub.name()];
      const examples = EXAMPLES[words.join(' ')];
      if (examples) addExamples(sub, examples);
      walk(sub, words);
    }
  };
  walk(program, []);
}
