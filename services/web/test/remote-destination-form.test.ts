// The destination form for SFTP servers and rclone remotes: the bodies it sends, and the problems it
// shows, found by the contract's schemas (the same the API validates with).
import { describe, expect, it } from 'vitest';
import { destinationInputSchema } from '@coffre/contract';
import { destinationCreateBody, destinationProblems, destinationUpdateBody, emptyDestinationForm, formFromDestination } from '../src/forms/destination';

const key = '-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----';
const sftp = { ...emptyDestinationForm(), name: 'nas', kind: 'sftp' as const, host: 'nas.lan', port: '2222', username: 'backup', remotePath: '/srv/coffre', privateKey: key };

describe('an SFTP destination in the form', () => {
  it('sends the key login the API accepts, the port as a number', () => {
    const body = destinationCreateBody(sftp);
    expect(body).toEqual({ name: 'nas', kind: 'sftp', isDefault: false, host: 'nas.lan', port: 2222, username: 'backup', remotePath: '/srv/coffre', privateKey: key });
    expect(destinationInputSchema.safeParse(body).success).toBe(true);
    expect(destinationProblems(sftp)).toEqual({});
  });

  it('sends a password instead when asked, and no key', () => {
    const body = destinationCreateBody({ ...sftp, sftpAuth: 'password', password: 'secret' });
    expect(body).toMatchObject({ password: 'secret' });
    expect(body).not.toHaveProperty('privateKey');
  });

  it('shows the problems of the host, the port and the key under their fields', () => {
    const problems = destinationProblems({ ...sftp, host: 'bad host', port: 'x', privateKey: 'not a key' });
    expect(Object.keys(problems).sort()).toEqual(['host', 'port', 'privateKey']);
  });

  it('on an edit keeps stored credentials and forgets the pinned key when its field is emptied', () => {
    const form = formFromDestination({
      id: '00000000-0000-4000-8000-000000000000',
      name: 'nas',
      kind: 'sftp',
      isDefault: false,
      location: 'sftp://backup@nas.lan:2222/srv/coffre/',
      config: { host: 'nas.lan', port: 2222, username: 'backup', remotePath: '/srv/coffre', hostKeySha256: `SHA256:${'A'.repeat(43)}` },
      hasCredentials: true,
      createdAt: '',
      updatedAt: '',
    });
    expect(form).toMatchObject({ host: 'nas.lan', port: '2222', hostKeySha256: `SHA256:${'A'.repeat(43)}`, privateKey: '', password: '' });
    expect(destinationUpdateBody(form)).not.toHaveProperty('privateKey');
    expect(destinationUpdateBody({ ...form, hostKeySha256: '' })).toMatchObject({ hostKeySha256: null });
  });
});

describe('an rclone destination in the form', () => {
  it('sends the remote and its configuration, and asks for the configuration when it is missing', () => {
    const form = { ...emptyDestinationForm(), name: 'drive', kind: 'rclone' as const, remote: 'gdrive', remotePath: 'backups', rcloneConfig: '[gdrive]\ntype = drive\n' };
    expect(destinationCreateBody(form)).toEqual({ name: 'drive', kind: 'rclone', isDefault: false, remote: 'gdrive', remotePath: 'backups', rcloneConfig: '[gdrive]\ntype = drive\n' });
    expect(destinationProblems(form)).toEqual({});
    expect(Object.keys(destinationProblems({ ...form, rcloneConfig: '' }))).toEqual(['rcloneConfig']);
  });
});
