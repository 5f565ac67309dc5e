import { BadRequestException, Controller, Get, Query } from '@nestjs/common';
import { InvalidQuery, ReadModelService } from './read-model.service.js';

@Controller('v1/metrics')
export class MetricsController {
  constructor(private readonly readModel: ReadModelService) {}

  /**
   * Totals and rates over the conversations started in [from, to): both
   * optional ISO 8601 dates or times; 400 naming the field when one is invalid.
   */
  @Get('summary')
  async summary(@Query('from') from?: unknown, @Query('to') to?: unknown) {
    try {
      return await this.readModel.summary({ from, to });
    } catch (err) {
      if (err instanceof InvalidQuery)
        throw new BadRequestException({ error: 'validation_failed', issues: err.issues });
      throw err;
    }
  }
}
