import { z } from 'zod';

/** One side of a filter. Every dimension that is set must match (see README.md). */
export const FilterSet = z.object({
  /** globs over server names: `*` and `?` match any characters including `/` */
  names: z.array(z.string().min(1)).optional(),
  tags: z.array(z.string().min(1)).optional(),
  tiers: z.array(z.string().min(1)).optional(),
  transports: z.array(z.string().min(1)).optional(),
  categories: z.array(z.string().min(1)).optional(),
});
export type FilterSet = z.infer<typeof FilterSet>;

export const FilterSpec = z.object({
  include: FilterSet.optional(),
  exclude: FilterSet.optional(),
});
export type FilterSpec = z.infer<typeof FilterSpec>;
