/**
 * The join window proven on the real API server and kubeadm: the token `kubeadm init` registers
 * expires after the stack's window, `pulumi up`'s mint (the program's own join-token.sh, with the
 * environment the engine would give it) opens a window a node can authenticate in, its revoke closes
 * it, and `kubeadm init` as the bootstrap script runs it prints no token to the console.
 */
import type { RunResult } from "../lib/proc";

/** The EXPIRES column of `kubeadm token list` for a token id ("<forever>" for a token without expiry). */
export function tokenExpiry(list: string, tokenId: string): string | undefined {
  const line = list.split("\n").find((l) => l.startsWith(`${tokenId}.`));
  return line?.trim().split(/\s+/)[2];
}

/** Why a token's expiry is not the window the stack asks for (undefined when it is). */
export function windowProblem(expires: string | undefined, ttlMinutes: number, now = Date.now()): string | undefined {
  if (expires === undefined) return "the token is not listed";
  if (expires === "<forever>") return "the token never expires";
  const left = (Date.parse(expires) - now) / 60_000;
  if (Number.isNaN(left)) return `unreadable expiry ${expires}`;
  // kubeadm lists whole seconds; allow the minutes the ring itself takes.
  if (left > ttlMinutes + 1 || left < ttlMinutes - 10) {
    return `it expires in ${left.toFixed(1)} min, the window is ${ttlMinutes} min`;
  }
  return undefined;
}

/** The flags kubeadm-bootstrap.sh gives `kubeadm init` besides --config. */
export function initFlagsOf(script: string): string[] {
  const line = script.split("\n").find((l) => /^\s*kubeadm init\b/.test(l) || /\bkubeadm init --config\b/.test(l));
  if (!line) throw new Error("kubeadm-bootstrap.sh has no `kubeadm init` command line");
  const words = line.trim().split(/\s+/);
  const flags: string[] = [];
  for (let i = words.indexOf("init") + 1; i < words.length; i++) {
    if (words[i] === "--config") i++;
    else if (words[i].startsWith("--")) flags.push(words[i]);
  }
  return flags;
}

/** Bootstrap tokens ([a-z0-9]{6}.[a-z0-9]{16}) in a text. */
export function tokensIn(text: string): string[] {
  return text.match(/\b[a-z0-9]{6}\.[a-z0-9]{16}\b/g) ?? [];
}

/** Who a bearer token authenticates as (a SelfSubjectReview), or the HTTP failure. */
export async function whoAmI(
  curl: (args: string[]) => Promise<RunResult>,
  url: string,
  token: string,
): Promise<string> {
  const result = await curl([
    "--silent",
    "--show-error",
    "--max-time",
    "10",
    "--header",
    `Authorization: Bearer ${token}`,
    "--header",
    "Content-Type: application/json",
    "--data",
    '{"apiVersion":"authentication.k8s.io/v1","kind":"SelfSubjectReview"}',
    `${url}/apis/authentication.k8s.io/v1/selfsubjectreviews`,
  ]);
  try {
    const review = JSON.parse(result.stdout) as { status?: { userInfo?: { username?: string } }; code?: number };
    return review.status?.userInfo?.username ?? `HTTP ${review.code}`;
  } catch {
    return `unreadable answer: ${result.stdout}${result.stderr}`;
  }
}
