/**
 * How much each stage of a pipeline holds before it pushes back. Data moves at tens of MB/s here;
 * with 256 KiB the worker's peak during 1 GB backups was 142 MB against 157–171 MB with 1 MiB
 * (pnpm bench), for the same CPU time per backup (scripts/measure-engine.ts).
 */
export const STREAM_BUFFER = 256 * 1024;
