import { Module } from '@nestjs/common';
import { StatementAuditController, StatementsController } from './statements.controller.js';
import { StatementsService } from './statements.service.js';

/** Partner statements (DOMAIN.md, "Partner statements (v2)"; docs/statements.md). */
@Module({
  controllers: [StatementsController, StatementAuditController],
  providers: [StatementsService],
})
export class StatementsModule {}
