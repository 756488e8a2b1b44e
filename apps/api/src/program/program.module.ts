import { Global, Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { DefineProgramHandler, ProgramController } from './program.controller.js';
import { ProgramService } from './program.service.js';

/** Global: every capability reads the program in force through ProgramService. */
@Global()
@Module({
  imports: [CqrsModule],
  controllers: [ProgramController],
  providers: [ProgramService, DefineProgramHandler],
  exports: [ProgramService],
})
export class ProgramModule {}
