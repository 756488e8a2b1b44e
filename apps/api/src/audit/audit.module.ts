import { Module } from '@nestjs/common';
import { AuditController } from './audit.controller.js';
import { AuditService } from './audit.service.js';
import { LogPositionInterceptor } from './log-position.interceptor.js';

/** `/v1/audit/*`: reads, integrity checks, as-of replay and export of the log (wiring only). */
@Module({
  controllers: [AuditController],
  providers: [AuditService, LogPositionInterceptor],
})
export class AuditModule {}
