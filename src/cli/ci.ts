// `lambda-image ci github`: wiring and output only; the work is in src/app/ci-github.ts.
import { writeGithubWorkflow, type CiGithubOptions } from '../app/ci-github.js';
import { createUi } from '../ui.js';

export async function runCiGithub(dir: string, opts: CiGithubOptions): Promise<void> {
  const ui = createUi();
  const result = await writeGithubWorkflow(dir, opts);
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
  ui.info(`${result.roleVariable ? '3' : '2'}. push to dev, then to main`);
}
