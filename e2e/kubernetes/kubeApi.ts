/**
 * A small client of the ring's kube-apiserver, with the credentials of a kubeconfig (kubeadm's
 * admin.conf: client certificate, cluster CA): what the ring reads back and the stand-in load
 * balancer writes. Requests are bounded in time; errors carry the API's status and message.
 */

import { readFileSync } from "node:fs";
import { request } from "node:https";
import { parse as parseYaml } from "yaml";

interface Kubeconfig {
  readonly clusters: { name: string; cluster: { server: string; "certificate-authority-data": string } }[];
  readonly users: { name: string; user: { "client-certificate-data": string; "client-key-data": string } }[];
}

export type KubeObject = {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly metadata: {
    readonly name: string;
    readonly namespace?: string;
    readonly labels?: Record<string, string>;
    readonly annotations?: Record<string, string>;
    readonly deletionTimestamp?: string;
  };
} & Record<string, unknown>;

export class KubeApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

const fromBase64 = (text: string) => Buffer.from(text, "base64");

export class KubeApi {
  private readonly url: URL;
  private readonly ca: Buffer;
  private readonly cert: Buffer;
  private readonly key: Buffer;

  constructor(kubeconfigFile: string) {
    const config = parseYaml(readFileSync(kubeconfigFile, "utf8")) as Kubeconfig;
    const cluster = config.clusters[0]?.cluster;
    const user = config.users[0]?.user;
    if (!cluster || !user) throw new Error(`${kubeconfigFile}: no cluster or user`);
    this.url = new URL(cluster.server);
    this.ca = fromBase64(cluster["certificate-authority-data"]);
    this.cert = fromBase64(user["client-certificate-data"]);
    this.key = fromBase64(user["client-key-data"]);
  }

  private call(method: string, apiPath: string, body?: unknown, contentType = "application/json"): Promise<unknown> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: this.url.hostname,
          port: this.url.port || 443,
          path: apiPath,
          method,
          ca: this.ca,
          cert: this.cert,
          key: this.key,
          timeout: 30_000,
          headers: {
            accept: "application/json",
            ...(payload ? { "content-type": contentType, "content-length": Buffer.byteLength(payload) } : {}),
          },
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on("data", (chunk: Buffer) => chunks.push(chunk));
          response.on("end", () => {
            const text = Buffer.concat(chunks).toString();
            const status = response.statusCode ?? 0;
            if (status >= 200 && status < 300) {
              resolve(text ? JSON.parse(text) : undefined);
            } else {
              let message = text;
              try {
                message = (JSON.parse(text) as { message?: string }).message ?? text;
              } catch {
                // not JSON: keep the text
              }
              reject(new KubeApiError(`${method} ${apiPath}: ${status} ${message}`, status));
            }
          });
        },
      );
      req.on("timeout", () => req.destroy(new Error(`${method} ${apiPath}: no answer within 30 s`)));
      req.on("error", reject);
      if (payload) req.write(payload);
      req.end();
    });
  }

  async get(apiPath: string): Promise<KubeObject> {
    return (await this.call("GET", apiPath)) as KubeObject;
  }

  /** The object, or undefined when the API answers 404. */
  async find(apiPath: string): Promise<KubeObject | undefined> {
    try {
      return await this.get(apiPath);
    } catch (error) {
      if (error instanceof KubeApiError && error.status === 404) return undefined;
      throw error;
    }
  }

  async list(apiPath: string): Promise<KubeObject[]> {
    return ((await this.call("GET", apiPath)) as { items: KubeObject[] }).items;
  }

  create(collectionPath: string, object: unknown): Promise<unknown> {
    return this.call("POST", collectionPath, object);
  }

  mergePatch(apiPath: string, patch: unknown): Promise<unknown> {
    return this.call("PATCH", apiPath, patch, "application/merge-patch+json");
  }

  delete(apiPath: string): Promise<unknown> {
    return this.call("DELETE", apiPath);
  }

  /** The REST path of a kind's collection, from API discovery (e.g. security.istio.io/v1 PeerAuthentication). */
  async resourcePath(apiVersion: string, kind: string, namespace?: string): Promise<string> {
    const base = apiVersion.includes("/") ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
    const discovery = (await this.call("GET", base)) as { resources: { name: string; kind: string }[] };
    const resource = discovery.resources.find((r) => r.kind === kind && !r.name.includes("/"));
    if (!resource) throw new Error(`the API serves no ${kind} in ${apiVersion}`);
    return namespace ? `${base}/namespaces/${namespace}/${resource.name}` : `${base}/${resource.name}`;
  }
}
