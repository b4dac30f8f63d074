/**
 * The error history of one manager, with running counts that survive the
 * history's size cap.
 *
 * @module
 */
import type { ErrorCategory, ErrorSeverity } from '../../constants.js';
import type { ErrorInfo } from './error-info.js';

/** Filter of the error history. */
export interface ErrorHistoryFilter {
  /** Only this step's errors. */
  stepId?: string;
  /** Only this category. */
  category?: ErrorCategory;
  /** Only this severity. */
  severity?: ErrorSeverity;
  /** Keep only the most recent N (after filtering). */
  limit?: number;
}

/** Recorded errors, oldest first, at most `capacity` of them. */
export class ErrorLog {
  private entries: ErrorInfo[] = [];
  private recorded = 0;
  private readonly byCategory = new Map<string, number>();
  private readonly bySeverity = new Map<string, number>();

  constructor(private readonly capacity: number) {}

  /** Appends an error (dropping the oldest beyond capacity) and counts it. */
  add(info: ErrorInfo): void {
    this.entries.push(info);
    if (this.entries.length > this.capacity) this.entries.splice(0, this.entries.length - this.capacity);
    this.recorded += 1;
    this.byCategory.set(info.category, (this.byCategory.get(info.category) ?? 0) + 1);
    this.bySeverity.set(info.severity, (this.bySeverity.get(info.severity) ?? 0) + 1);
  }

  /** Copies of the matching errors, oldest first; `limit` keeps the most recent N. */
  query({ stepId, category, severity, limit }: ErrorHistoryFilter = {}): ErrorInfo[] {
    const matched = this.entries.filter(
      (info) =>
        (stepId === undefined || info.stepId === stepId) &&
        (category === undefined || info.category === category) &&
        (severity === undefined || info.severity === severity),
    );
    const kept = limit === undefined ? matched : limit === 0 ? [] : matched.slice(-limit);
    return structuredClone(kept);
  }

  /** Errors recorded since the last clear (beyond the cap too). */
  get total(): number {
    return this.recorded;
  }

  /** Counts per category (seen ones only). */
  categoryCounts(): Record<string, number> {
    return Object.fromEntries(this.byCategory);
  }

  /** Counts per severity (seen ones only). */
  severityCounts(): Record<string, number> {
    return Object.fromEntries(this.bySeverity);
  }

  /** Forgets every error and count. */
  clear(): void {
    this.entries = [];
    this.recorded = 0;
    this.byCategory.clear();
    this.bySeverity.clear();
  }
}
