// The list pages' table: columns declared once (header, cell, class), the states a list goes
// through (loading, failed, empty) and its pages. On a phone each cell shows its column's name
// (data-label), so the table reads as one card per row.
import type { HTMLAttributes, ReactNode } from 'react';
import { Button } from './Button';
import { Pagination } from './Pagination';
import { ListStates } from './States';
import type { ListState } from '../hooks/useList';

export interface Column<T> {
  header: string;
  cell: (row: T) => ReactNode;
  /** The cell's class ("cell-name", "nowrap", …). */
  className?: string;
  /** Figures: right-aligned, header included. */
  numeric?: boolean;
  /** The name a phone shows beside the cell, when not the header. */
  label?: string;
  /** A column of buttons: its header is for screen readers only, and a phone shows no name. */
  actions?: boolean;
}

type RowAttributes = HTMLAttributes<HTMLTableRowElement> & Record<`data-${string}`, string | number | boolean | undefined>;

interface DataTableProps<T> {
  list: ListState<T>;
  columns: Column<T>[];
  rowKey: (row: T) => string;
  /** Test ids and data-* the row carries (the browser tests find rows by them). */
  rowProps?: (row: T) => RowAttributes;
  /** What the list holds, for "Loading the …" and "Could not load the …". */
  what: string;
  empty: ReactNode;
  testId?: string;
  /** A small table inside a panel: tighter, and a table on a phone too. */
  compact?: boolean;
  /** Props of a box around the rows and the empty state (the history marks which query they answer). */
  results?: HTMLAttributes<HTMLDivElement> & Record<`data-${string}`, string | undefined>;
}

export function DataTable<T>({ list, columns, rowKey, rowProps, what, empty, testId, compact, results }: DataTableProps<T>) {
  const body = (
    <ListStates list={list} what={what} empty={empty}>
      {(rows) => (
        <div className="table-wrap">
          <table className={`table ${compact ? 'table-compact' : 'responsive'}${list.stale ? ' table-stale' : ''}`} data-testid={testId} aria-busy={list.stale}>
            <thead>
              <tr>
                {columns.map((column) => (
                  <th key={column.header} scope="col" className={column.numeric ? 'num' : undefined}>
                    {column.actions ? <span className="visually-hidden">{column.header}</span> : column.header}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {rows.map((row) => (
                <tr key={rowKey(row)} {...rowProps?.(row)}>
                  {columns.map((column) => (
                    <td key={column.header} data-label={column.actions ? undefined : (column.label ?? column.header)} className={cellClass(column)}>
                      {column.cell(row)}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </ListStates>
  );
  return (
    <>
      {results ? (
        <div className="results" {...results}>
          {body}
        </div>
      ) : (
        body
      )}
      {list.paging ? <Pagination {...list.paging} /> : null}
    </>
  );
}

function cellClass<T>(column: Column<T>): string | undefined {
  const classes = [column.className, column.numeric ? 'num' : '', column.actions ? 'cell-actions' : ''].filter(Boolean);
  return classes.length ? classes.join(' ') : undefined;
}

/** The last column of a list: the row's buttons. */
export function actionsColumn<T>(header: string, cell: (row: T) => ReactNode): Column<T> {
  return { header, cell, actions: true };
}

/** The last column of a list that opens each row's details. */
export function detailsColumn<T>(label: (row: T) => string, open: (row: T) => void): Column<T> {
  return actionsColumn('Details', (row) => (
    <Button small onClick={() => open(row)} aria-label={label(row)}>
      Details
    </Button>
  ));
}
