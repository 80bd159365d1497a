// Two small hand-made SVG charts (no library: they are a few rectangles and a path). They are drawn
// at their container's width in pixels, so that labels keep their size on a phone; each bar and
// point has a <title> for the exact figure.
import { useEffect, useRef, useState, type ReactNode } from 'react';
import type { BackupDay } from '@coffre/contract';
import { dayTotal, labelledDays, niceByteCeiling, niceCeiling, statusOrder } from '../lib/charts';
import { formatBytes } from '../lib/format';

const H = 190;
const PAD = { left: 58, right: 10, top: 10, bottom: 24 };

export function BackupsPerDayChart({ data }: { data: BackupDay[] }) {
  return (
    <Sized>
      {(W) => <BackupsPerDaySvg data={data} W={W} />}
    </Sized>
  );
}

function BackupsPerDaySvg({ data, W }: { data: BackupDay[]; W: number }) {
  const max = niceCeiling(Math.max(1, ...data.map(dayTotal)));
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const slot = plotW / Math.max(1, data.length);
  const barW = Math.max(2, slot * 0.7);
  return (
    <figure className="chart">
      <svg width={W} height={H} viewBox={`0 0 ${W} ${H}`} role="img" aria-label="Backups per UTC day over the last 30 days, by status">
        <Axis W={W} max={max} format={(n) => String(n)} />
        {data.map((d, i) => {
          let y = PAD.top + plotH;
          return (
            <g key={d.date} data-date={d.date} data-total={dayTotal(d)}>
              {statusOrder.map((status) => {
                const n = d[status];
                if (!n) return null;
                const h = (n / max) * plotH;
                y -= h;
                return (
                  <rect key={status} className={`bar-${status}`} x={PAD.left + i * slot + (slot - barW) / 2} y={y} width={barW} height={h}>
                    <title>{`${d.date}: ${n} ${status}`}</title>
                  </rect>
                );
              })}
            </g>
          );
        })}
        <DayTicks W={W} days={data.map((d) => d.date)} />
      </svg>
      <figcaption className="legend">
        {statusOrder.map((status) => (
          <span key={status} className="legend-item">
            <span className={`swatch bar-${status}`} aria-hidden="true" />
            {status}
          </span>
        ))}
      </figcaption>
    </figure>
  );
}

export function StoredBytesChart({ data }: { data: BackupDay[] }) {
  return (
    <Sized>
      {(W) => <StoredBytesSvg data={data} W={W} />}
    </Sized>
  );
}

function StoredBytesSvg({ data, W }: { data: BackupDay[]; W: number }) {
  const max = niceByteCeiling(Math.max(1, ...data.map((d) => d.storedBytes)));
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const slot = plotW / Math.max(1, data.length);
  const points = data.map((d, i) => [PAD.left + i * slot + slot / 2, PAD.top + plotH - (d.storedBytes / max) * plotH] as const);
  const line = points.map(([x, y], i) => `${i ? 'L' : 'M'}${x.toFixed(1)},${y.toFixed(1)}`).join(' ');
  const area = points.length ? `${line} L${points[points.length - 1]![0].toFixed(1)},${PAD.top + plotH} L${points[0]![0].toFixed(1)},${PAD.top + plotH} Z` : '';
  return (
    <figure className="chart">
      <svg width={W} height={H} viewBox={`0 0 ${W} ${H}`} role="img" aria-label="Stored bytes at the end of each UTC day over the last 30 days">
        <Axis W={W} max={max} format={formatBytes} />
        <path className="area" d={area} />
        <path className="line" d={line} />
        {points.map(([x, y], i) => (
          <circle key={data[i]!.date} className="point" cx={x} cy={y} r={6} fillOpacity={0} data-date={data[i]!.date} data-bytes={data[i]!.storedBytes}>
            <title>{`${data[i]!.date}: ${formatBytes(data[i]!.storedBytes)}`}</title>
          </circle>
        ))}
        <DayTicks W={W} days={data.map((d) => d.date)} />
      </svg>
    </figure>
  );
}

/** Measures its own width and draws the chart at it. */
function Sized({ children }: { children: (width: number) => ReactNode }) {
  const box = useRef<HTMLDivElement>(null);
  const [width, setWidth] = useState(0);
  useEffect(() => {
    const element = box.current!;
    const observer = new ResizeObserver(() => setWidth(Math.floor(element.clientWidth)));
    observer.observe(element);
    setWidth(Math.floor(element.clientWidth));
    return () => observer.disconnect();
  }, []);
  return (
    <div ref={box} className="chart-box">
      {width > 0 ? children(width) : null}
    </div>
  );
}

function Axis({ W, max, format }: { W: number; max: number; format: (n: number) => string }) {
  const plotH = H - PAD.top - PAD.bottom;
  return (
    <g className="axis">
      {[0, 0.5, 1].map((f) => {
        const y = PAD.top + plotH - f * plotH;
        return (
          <g key={f}>
            <line x1={PAD.left} x2={W - PAD.right} y1={y} y2={y} />
            <text x={PAD.left - 6} y={y + 4} textAnchor="end">
              {format(max * f)}
            </text>
          </g>
        );
      })}
    </g>
  );
}

function DayTicks({ W, days }: { W: number; days: string[] }) {
  const plotW = W - PAD.left - PAD.right;
  const slot = plotW / Math.max(1, days.length);
  // One label a week on a wide chart, one every two weeks on a phone (dates are UTC days: MM-DD).
  const every = plotW < 400 ? 14 : 7;
  return (
    <g className="axis">
      {labelledDays(days.length, every).map((i) => (
        <text key={days[i]} x={PAD.left + i * slot + slot / 2} y={H - 6} textAnchor={i === days.length - 1 ? 'end' : 'middle'}>
          {days[i]!.slice(5)}
        </text>
      ))}
    </g>
  );
}
