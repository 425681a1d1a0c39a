// `lambda-image ci github`: wiring and output only; the work is in src/app/ci-github.ts.
import { writeGithubWorkflow, type CiGithubOptions } from '../app/ci-github.js';
import { createUi } from '../ui.js';

export async function runCiGithub(dir: string, opts: CiGithubOptions): Promise<void> {
  const ui = createUi();
  const result = await writeGithubWorkflow(dir, opts);
  for (const w of result.warnings) ui.warn(w);
  if (opts.dryRun) {
    ui.out(result.content.trimEnd());
    ui.info(`dry run: ${result.file} was not written`);
  } else {
    ui.out(
      `${result.action === 'create' ? 'created' : result.action === 'overwrite' ? 'overwrote' : 'unchanged'} ${result.file}`,
    );
  }
  // Next steps are guidance, not results: stderr, so stdout stays the workflow (or the file line).
  ui.info('');
  ui.info('next steps:');
  ui.info(
    "1. in AWS IAM, add GitHub's OIDC provider (token.actions.githubusercontent.com, audience sts.amazonaws.com), then",
  );
  ui.info('   a role with this trust policy and permission to push to the repository and update the functions:');
  for (const line of JSON.stringify(result.trustPolicy, null, 2).split('\n')) ui.info(`   ${line}`);
  if (!result.githubRepo) ui.info('   (replace <owner>/<repo> with your GitHub repository, or pass --github-repo)');
  if (result.roleVariable)
    ui.info(
      `2. in the GitHub repository, set the variable ${result.roleVariable} to the role's ARN (Settings → Secrets and variables → Actions → Variables)`,
    );
  let step = result.roleVariable ? 3 : 2;
  if (result.functionRoleVariable)
    ui.info(
      `${step++}. to let the workflow create a function that does not exist yet (the dev function on the first push to dev), set the variable ${result.functionRoleVariable} to its execution role's ARN (or set "deploy": { "role": ... } in lambda-image.json)`,
    );
  ui.info(`${step}. push to dev, then to main`);
}
