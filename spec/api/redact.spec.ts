// Request data never reaches an error: a misbehaving server echoes a Secret's create or
// update body back in every shape API servers are known to use, and the error thrown through
// the real KubeClient and ObjectWriter holds no piece of any secret value, in any encoding, in
// its message, stack, reason, details or cause chain. Then the redactor's own rules.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { KubeConfig, type V1Secret } from '@kubernetes/client-node';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { StatusError } from '../../lib/api/errors.js';
import { KubeClient } from '../../lib/api/kube-client.js';
import { ObjectWriter } from '../../lib/api/object-writer.js';
import { MIN_REDACTED_FRAGMENT, REDACTED, Redactor } from '../../lib/api/redact.js';
import { resources } from '../../lib/api/resource.js';

const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64');

/** Plain text with characters every escaping changes: quotes, backslashes, newlines, tabs, HTML, non-ASCII. */
const PLAIN = 'correct "horse" \\ battery\n\tstaple <&> ünïcödé 0xDEADBEEF-7f3a9c';
/** Bytes that are not UTF-8, so a %q echo escapes them one by one, as Go prints them. */
const BINARY = Buffer.from([0xff, 0xfe, 0x80, 0x00, 0x01, 0xc3, 0x28, 0x41, 0x42, 0x43, 0x91, 0x92, 0x93, 0x94, 0xf5, 0xfa, 0x7f]);
const BINARY_GO_QUOTED = '\\xff\\xfe\\x80\\x00\\x01\\xc3(ABC\\x91\\x92\\x93\\x94\\xf5\\xfa\\x7f';
const TOKEN = 'tok-Zk9Qm2Lr8Xv4Np6Ws1';

function secretFor(shape: string): V1Secret {
  const data = { password: b64(PLAIN), blob: b64(BINARY) };
  return {
    metadata: {
      name: shape,
      annotations: { 'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: shape }, data }) },
    },
    data,
    stringData: { token: TOKEN },
  };
}

/** Go's strconv.Quote for the cases the shapes below need (ASCII and valid UTF-8). */
function goQuote(s: string): string {
  return JSON.stringify(s).replace(/\\u00([0-9a-f]{2})/g, '\\x$1');
}

/** A Status body for each way a server quotes the request back. */
const SHAPES: Record<string, (body: string, sent: V1Secret) => object> = {
  whole: (body) => status(`Object 'Kind' is missing in '${body}'`),
  pretty: (body) => status(`Secret in version "v1" cannot be handled as a Secret:\n${JSON.stringify(JSON.parse(body), null, 2)}`),
  goQuoted: (body) => status(`error decoding body: invalid character 'x' in string literal: %q ${goQuote(body)}`),
  doubleJson: (body) => status(`cannot decode ${JSON.stringify(body)}`),
  fieldValue: (_body, sent) =>
    status(
      `Secret "fieldValue" is invalid: [data[password]: Invalid value: "${sent.data!.password}": not allowed, stringData[token]: Invalid value: "${TOKEN}", data[plain]: Invalid value: ${goQuote(PLAIN)}]`,
    ),
  jsonIterContext: (body) => {
    const i = body.indexOf(b64(PLAIN)) + 7;
    return status(
      `v1.Secret.Data: ReadString: expects " or n, but found 1, error found in #10 byte of ...|${body.slice(i - 10, i + 10)}|..., bigger context ...|${body.slice(i - 50, i + 50)}|...`,
    );
  },
  causes: (body, sent) =>
    status('Secret "causes" is invalid', {
      name: 'causes',
      kind: 'secrets',
      causes: [
        { reason: 'FieldValueInvalid', message: `Invalid value: "${sent.data!.password}"`, field: `data[${sent.data!.blob}]` },
        { reason: 'FieldValueInvalid', message: `Invalid value: "${BINARY_GO_QUOTED}" and ${body}`, field: `stringData[${TOKEN}]` },
        { reason: `echo ${PLAIN}`, message: body.slice(40, 140) },
      ],
    }),
};

function status(message: string, details?: object): object {
  return { kind: 'Status', apiVersion: 'v1', status: 'Failure', code: 422, reason: 'Invalid', message, details };
}

/** Every form a piece of the secret could take in the error. */
function secretForms(sent: V1Secret): string[] {
  const texts = [PLAIN, TOKEN, sent.data!.password, sent.data!.blob];
  const forms = new Set<string>([BINARY_GO_QUOTED]);
  for (const t of texts) for (const f of [t, JSON.stringify(t).slice(1, -1), goQuote(t).slice(1, -1), JSON.stringify(JSON.stringify(t)).slice(1, -1)]) forms.add(f);
  return [...forms];
}

/** Every text an error exposes: message, stack, reason, details, and the same for each cause. */
function exposedTexts(err: unknown): string[] {
  const out: string[] = [];
  for (
    let e = err as { message?: string; stack?: string; reason?: string; details?: unknown; cause?: unknown } | undefined, depth = 0;
    e && depth < 10;
    e = e.cause as typeof e, depth++
  ) {
    out.push(String(e.message), String(e.stack), String(e.reason), JSON.stringify(e.details ?? null), JSON.stringify(e));
  }
  return out;
}

function expectNoFragmentOf(sent: V1Secret, err: unknown): void {
  const haystack = exposedTexts(err).join('\n');
  for (const form of secretForms(sent)) {
    for (let i = 0; i + MIN_REDACTED_FRAGMENT <= form.length; i++) {
      const piece = form.slice(i, i + MIN_REDACTED_FRAGMENT);
      if (haystack.includes(piece)) throw new Error(`the error exposes ${JSON.stringify(piece)} of ${JSON.stringify(form)}:\n${haystack}`);
    }
  }
}

let server: http.Server;
let client: KubeClient;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      const sent = JSON.parse(body) as V1Secret;
      const shape = SHAPES[sent.metadata!.name!];
      res.writeHead(422, { 'content-type': 'application/json' });
      res.end(JSON.stringify(shape(body, sent)));
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, skipTLSVerify: true }],
    users: [{ name: 'u', token: 't' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  client = new KubeClient(kc);
});

afterAll(async () => {
  await client.close();
  await new Promise<void>((r) => server.close(() => r()));
});

describe('errors of requests that sent a body', () => {
  const writer = () => new ObjectWriter<V1Secret>(client, resources.secrets);

  for (const shape of Object.keys(SHAPES)) {
    it(`keeps every piece of the secret out of a create error that echoes the body (${shape})`, async () => {
      const sent = secretFor(shape);
      const err = await writer()
        .create('ns', sent)
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StatusError);
      expect(err).toMatchObject({ code: 422, reason: 'Invalid' });
      expectNoFragmentOf(sent, err);
    });

    it(`keeps every piece of the secret out of an update error that echoes the body (${shape})`, async () => {
      const sent = secretFor(shape);
      const err = await writer()
        .update('ns', shape, sent)
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StatusError);
      expectNoFragmentOf(sent, err);
    });
  }

  it('keeps what the server said around the redacted values', async () => {
    const err = (await writer()
      .create('ns', secretFor('fieldValue'))
      .catch((e: unknown) => e)) as StatusError;
    expect(err.message).toBe(
      `Secret "fieldValue" is invalid: [data[password]: Invalid value: "${REDACTED}": not allowed, stringData[token]: Invalid value: "${REDACTED}", data[plain]: Invalid value: "${REDACTED}"]`,
    );
    const causes = (
      (await writer()
        .create('ns', secretFor('causes'))
        .catch((e: unknown) => e)) as StatusError
    ).details!;
    expect(causes).toMatchObject({ name: 'causes', kind: 'secrets' });
    expect(causes.causes![0]).toEqual({ reason: 'FieldValueInvalid', message: `Invalid value: "${REDACTED}"`, field: `data[${REDACTED}]` });
  });
});

describe('Redactor', () => {
  it('leaves the identity fields and labels quotable, and redacts annotations, data and stringData', () => {
    const r = Redactor.forBody({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'my-secret', namespace: 'team-a', labels: { app: 'frontend' }, annotations: { note: 'rotate-me-monthly' } },
      stringData: { k: 'sesame-open' },
    });
    expect(r.scrub('secrets "my-secret" in namespace "team-a" (app=frontend) already exists')).toBe('secrets "my-secret" in namespace "team-a" (app=frontend) already exists');
    expect(r.scrub('note rotate-me-monthly and sesame-open')).toBe(`note ${REDACTED} and ${REDACTED}`);
  });

  it('redacts a piece of MIN_REDACTED_FRAGMENT characters, and none shorter inside other text', () => {
    const value = 'Zq8WvN3pLx0Ty7';
    const r = Redactor.forBody({ data: { k: value } });
    expect(r.scrub(`...|${value.slice(3, 3 + MIN_REDACTED_FRAGMENT)}|...`)).toBe(`...|${REDACTED}|...`);
    expect(r.scrub(`...|x${value.slice(0, MIN_REDACTED_FRAGMENT - 1)}|...`)).toBe(`...|x${value.slice(0, MIN_REDACTED_FRAGMENT - 1)}|...`);
  });

  it('redacts a short value where it stands alone, not inside a word', () => {
    const r = Redactor.forBody({ stringData: { pin: 'a1b2' } });
    expect(r.scrub('pin "a1b2" rejected; xa1b2x kept')).toBe(`pin "${REDACTED}" rejected; xa1b2x kept`);
  });

  it('looks inside values that are JSON documents instead of redacting their structure', () => {
    const r = Redactor.forBody({ metadata: { annotations: { applied: JSON.stringify({ kind: 'Secret', metadata: { name: 'x' }, data: { p: 'aW5uZXItc2VjcmV0' } }) } } });
    expect(r.scrub('{"kind":"Secret","metadata":{"name":"x"},"data":{"p":"aW5uZXItc2VjcmV0"}} inner-secret')).toBe(
      `{"kind":"Secret","metadata":{"name":"x"},"data":{"p":"${REDACTED}"}} ${REDACTED}`,
    );
  });

  it('redacts the Go %q form of bytes that are not UTF-8', () => {
    const r = Redactor.forBody({ data: { b: b64(BINARY) } });
    expect(r.scrub(`bytes "${BINARY_GO_QUOTED}" end`)).toBe(`bytes "${REDACTED}" end`);
    expect(r.scrub('bytes "\\xff\\xfe\\x80\\x00" end')).toBe(`bytes "${REDACTED}" end`);
  });
});
