// Test helper: a parsed view of a Dockerfile (via dockerfile-ast), stage by stage.
import { DockerfileParser } from 'dockerfile-ast';

export interface Stage {
  image: string;
  name: string | null;
  platform: string | null;
  instructions: Array<{ keyword: string; args: string; from: string | null }>;
}

/** The stages of a Dockerfile; instructions before the first FROM (global ARGs) go in `globals`. */
export function parseStages(text: string): Stage[] & { globals: string[] } {
  const df = DockerfileParser.parse(text);
  const stages = Object.assign([] as Stage[], { globals: [] as string[] });
  for (const ins of df.getInstructions()) {
    const keyword = ins.getKeyword();
    if (keyword === 'FROM') {
      const from = df.getFROMs().find((f) => f.getRange().start.line === ins.getRange().start.line)!;
      stages.push({
        image: from.getImage()!,
        name: from.getBuildStage(),
        platform: from.getPlatformFlag()?.getValue() ?? null,
        instructions: [],
      });
      continue;
    }
    if (!stages.length) {
      stages.globals.push(`${keyword} ${ins.getArgumentsContent() ?? ''}`);
      continue;
    }
    const copy = df.getCOPYs().find((c) => c.getRange().start.line === ins.getRange().start.line);
    stages.at(-1)!.instructions.push({
      keyword,
      args: ins.getArgumentsContent() ?? '',
      from: copy?.getFromFlag()?.getValue() ?? null,
    });
  }
  return stages;
}
