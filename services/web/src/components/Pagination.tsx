import { pageItems } from '../lib/pagination';

interface PaginationProps {
  page: number;
  pageSize: number;
  total: number;
  onPage: (page: number) => void;
}

export function Pagination({ page, pageSize, total, onPage }: PaginationProps) {
  const pageCount = Math.max(1, Math.ceil(total / pageSize));
  if (total <= pageSize) return null;
  return (
    <nav className="pagination" aria-label="Pages">
      <button type="button" className="page-button" onClick={() => onPage(page - 1)} disabled={page <= 1} aria-label="Previous page">
        ‹
      </button>
      {pageItems(page, pageCount).map((item) =>
        typeof item === 'number' ? (
          <button
            key={item}
            type="button"
            className={`page-button${item === page ? ' page-current' : ''}`}
            aria-current={item === page ? 'page' : undefined}
            aria-label={`Page ${item}`}
            onClick={() => onPage(item)}
          >
            {item}
          </button>
        ) : (
          <span key={item} className="page-gap" aria-hidden="true">
            …
          </span>
        ),
      )}
      <button type="button" className="page-button" onClick={() => onPage(page + 1)} disabled={page >= pageCount} aria-label="Next page">
        ›
      </button>
    </nav>
  );
}
