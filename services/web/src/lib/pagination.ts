// Page numbers to show: the first, the last, the current with its neighbours, and an ellipsis for
// each gap of more than one page (a gap of exactly one page shows that page instead).
export type PageItem = number | 'gap-before' | 'gap-after';

export function pageItems(current: number, pageCount: number, neighbours = 1): PageItem[] {
  if (pageCount <= 1) return pageCount === 1 ? [1] : [];
  const page = Math.min(Math.max(current, 1), pageCount);
  const start = Math.max(2, page - neighbours);
  const end = Math.min(pageCount - 1, page + neighbours);
  const items: PageItem[] = [1];
  if (start === 3) items.push(2);
  else if (start > 3) items.push('gap-before');
  for (let n = start; n <= end; n += 1) items.push(n);
  if (end === pageCount - 2) items.push(pageCount - 1);
  else if (end < pageCount - 2) items.push('gap-after');
  items.push(pageCount);
  return items;
}
