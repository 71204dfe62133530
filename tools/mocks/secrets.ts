/**
 * The SDK hands mocks secret values wrapped in an envelope (its "4dabf181..." signature). The engine
 * records plain inputs and remembers where the secrets were.
 */
export type State = Record<string, unknown>;

const SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

function isSecretValue(value: unknown): value is { value: unknown } {
  return typeof value === "object" && value !== null && (value as State)[SECRET_SIG_KEY] === SECRET_SIG;
}

export interface UnwrappedInputs {
  readonly plain: State;
  /** Top-level inputs that hold a secret anywhere inside. */
  readonly secretNames: string[];
  /** Dotted paths of the secret values themselves, e.g. "environment.KUBECONFIG_DATA". */
  readonly secretPaths: string[];
}

/** Deep-unwraps the SDK's secret envelopes. */
export function unwrapSecrets(inputs: State): UnwrappedInputs {
  const secretPaths: string[] = [];
  const unwrap = (value: unknown, at: string, record: boolean): unknown => {
    if (isSecretValue(value)) {
      if (record) secretPaths.push(at);
      return unwrap(value.value, at, false);
    }
    if (Array.isArray(value)) return value.map((v, i) => unwrap(v, `${at}[${i}]`, record));
    if (typeof value === "object" && value !== null) {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, unwrap(v, at ? `${at}.${k}` : k, record)]));
    }
    return value;
  };
  const plain: State = {};
  const secretNames: string[] = [];
  for (const [name, value] of Object.entries(inputs)) {
    if (JSON.stringify(value ?? null).includes(SECRET_SIG)) secretNames.push(name);
    plain[name] = unwrap(value, name, true);
  }
  return { plain, secretNames, secretPaths };
}
