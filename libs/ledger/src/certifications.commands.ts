import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { CERTIFICATION_CATALOG_STREAM_ID } from '#events/partners.js';
import { certificationCatalogDecider, type CatalogEntry, type DefineCertification } from '#libs/partners/certification-catalog.js';
import type { CommandContext, CommandOutcome } from './context.js';
import { CommandPipeline } from './pipeline.js';

/** `PUT /v1/certifications/{name}`: defines (or redefines) a catalog entry. */
export class DefineCertificationCommand {
  constructor(readonly ctx: CommandContext, readonly data: DefineCertification) {}
}

@CommandHandler(DefineCertificationCommand)
export class DefineCertificationHandler implements ICommandHandler<DefineCertificationCommand, CommandOutcome> {
  constructor(@Inject(CommandPipeline) private readonly pipeline: CommandPipeline) {}

  execute({ ctx, data }: DefineCertificationCommand): Promise<CommandOutcome> {
    return this.pipeline.handle(ctx, CERTIFICATION_CATALOG_STREAM_ID, certificationCatalogDecider, data);
  }
}

/** The catalog as it stands (one small stream, folded once and then only what was appended since). */
export async function certificationCatalog(pipeline: CommandPipeline): Promise<CatalogEntry[]> {
  return [...(await pipeline.state(CERTIFICATION_CATALOG_STREAM_ID, certificationCatalogDecider)).values()].sort((a, b) => a.name.localeCompare(b.name));
}
