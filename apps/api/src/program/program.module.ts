import { Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { ProgramController } from './program.controller.js';
import { GetProgramHandler } from './program.handlers.js';

@Module({
  imports: [CqrsModule],
  controllers: [ProgramController],
  providers: [GetProgramHandler],
})
export class ProgramModule {}
