// @coffre/shared/sftp: the SFTP driver, apart from the main entry so that processes load ssh2 only
// when an SFTP destination is used.
export * from './storage/sftp.js';
