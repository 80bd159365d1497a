// REDIS_URL read in one place: a Redis (redis://, rediss://) or the sentinels of one
// (redis+sentinel://), turned into ioredis's options; a bad URL gets a sentence, and neither the
// sentence nor the description that doctor prints repeats a password.
import { describe, expect, it } from 'vitest';
import { describeRedisUrl, loadConfig, parseRedisUrl, redisUrlProblem, sentinelOptions } from '@coffre/shared';

describe('a Redis server', () => {
  it.each(['redis://127.0.0.1:6379', 'rediss://user:pw@cache.example:6380/2', 'redis://cache'])('%s is handed to ioredis as it is', (url) => {
    expect(parseRedisUrl(url)).toEqual({ kind: 'direct', url });
  });

  it('a path that is not a database number is refused', () => {
    expect(redisUrlProblem('redis://cache:6379/queues')).toBe('may only end with a database number (redis://host:port/0)');
  });
});

describe('Redis Sentinel', () => {
  it('the sentinels, the master group, the servers\' and the sentinels\' credentials, and the database', () => {
    const target = parseRedisUrl('redis+sentinel://coffre:p%40ss@10.0.0.1:26379,sentinel-2:26380,[::1]:26381/my-master?db=3&sentinelPassword=s%20pw&sentinelUsername=watcher');
    expect(target).toEqual({
      kind: 'sentinel',
      sentinels: [
        { host: '10.0.0.1', port: 26379 },
        { host: 'sentinel-2', port: 26380 },
        { host: '::1', port: 26381 },
      ],
      name: 'my-master',
      username: 'coffre',
      password: 'p@ss',
      sentinelUsername: 'watcher',
      sentinelPassword: 's pw',
      db: 3,
    });
    expect(sentinelOptions(target as Extract<typeof target, { kind: 'sentinel' }>)).toMatchObject({
      sentinels: target.kind === 'sentinel' ? target.sentinels : [],
      name: 'my-master',
      password: 'p@ss',
      sentinelPassword: 's pw',
      db: 3,
      failoverDetector: false,
    });
  });

  it('a sentinel without a port is on 26379; no credentials and no db give none and 0', () => {
    expect(parseRedisUrl('redis+sentinel://s1,s2:26390/mymaster')).toEqual({
      kind: 'sentinel',
      sentinels: [
        { host: 's1', port: 26379 },
        { host: 's2', port: 26390 },
      ],
      name: 'mymaster',
      db: 0,
    });
  });

  it('a password without a user name (ACL default user)', () => {
    expect(parseRedisUrl('redis+sentinel://:secret@s1:26379/mymaster')).toMatchObject({ password: 'secret' });
    expect(parseRedisUrl('redis+sentinel://:secret@s1:26379/mymaster')).not.toHaveProperty('username');
  });

  it.each([
    ['redis+sentinel:///mymaster', 'names no sentinel (write redis+sentinel://host1:26379,host2:26379/mymaster)'],
    ['redis+sentinel://s1:26379', 'names no master group after the sentinels (write redis+sentinel://host1:26379,host2:26379/mymaster)'],
    ['redis+sentinel://s1:26379/', 'names no master group after the sentinels (write redis+sentinel://host1:26379,host2:26379/mymaster)'],
    ['redis+sentinel://s1:port/mymaster', 'has a sentinel that is not host or host:port (for IPv6, [::1]:26379)'],
    ['redis+sentinel://s1:70000/mymaster', 'has a sentinel port outside 1 to 65535'],
    ['redis+sentinel://s1/mymaster?db=two', 'has a db parameter that is not a database number (0, 1, …)'],
    ['redis+sentinel://s1/mymaster?password=x&role=slave', 'has unknown parameter(s) password, role (known: db, sentinelPassword, sentinelUsername)'],
    ['redis+sentinel://s1/my/master', 'is not a valid Sentinel URL (write redis+sentinel://host1:26379,host2:26379/mymaster)'],
    ['redis+sentinel://u:%zz@s1/mymaster', 'has a password with a bad %-escape'],
    ['sentinel://s1/mymaster', 'must be a redis://, rediss:// or redis+sentinel:// URL'],
  ])('%s: REDIS_URL %s', (url, sentence) => {
    expect(redisUrlProblem(url)).toBe(sentence);
  });

  it('the configuration refuses it with the sentence, naming REDIS_URL', () => {
    expect(() => loadConfig({ DATABASE_URL: 'postgresql://127.0.0.1/coffre', SECRET_KEY: 'k'.repeat(48), REDIS_URL: 'redis+sentinel://s1:26379' })).toThrow(
      'Invalid environment: REDIS_URL names no master group after the sentinels (write redis+sentinel://host1:26379,host2:26379/mymaster).',
    );
    expect(loadConfig({ DATABASE_URL: 'postgresql://127.0.0.1/coffre', SECRET_KEY: 'k'.repeat(48), REDIS_URL: 'redis+sentinel://s1:26379/mymaster' }).REDIS_URL).toBe(
      'redis+sentinel://s1:26379/mymaster',
    );
  });
});

describe('what may be shown', () => {
  it.each([
    ['redis://:hunter2@cache:6379', 'redis://:***@cache:6379'],
    ['rediss://coffre:hunter2@cache:6380/1', 'rediss://coffre:***@cache:6380/1'],
    ['redis+sentinel://coffre:hunter2@s1:26379,[::1]:26380/mymaster?db=2&sentinelPassword=hunter2', 'redis+sentinel://coffre:***@s1:26379,[::1]:26380/mymaster?db=2&sentinelPassword=***'],
    ['redis+sentinel://s1/mymaster', 'redis+sentinel://s1:26379/mymaster'],
    ['redis+sentinel://hunter2@s1/', 'REDIS_URL'],
  ])('%s is shown as %s', (url, shown) => {
    expect(describeRedisUrl(url)).toBe(shown);
    expect(describeRedisUrl(url)).not.toContain('hunter2');
  });
});
