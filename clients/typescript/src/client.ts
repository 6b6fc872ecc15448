/**
 * A sample client written the way a frontend team would, against the types openapi-typescript
 * generates from /api/schema/ (src/schema.d.ts). `make client-check` regenerates the types
 * and compiles this file with `tsc --strict`: when the schema stops describing what these
 * calls read (an `id`, `meta.pagination`, `errors[].attr`), the build fails.
 */
import type { components, paths } from "./schema";

type Schemas = components["schemas"];
type ErrorEnvelope = Schemas["ErrorEnvelope"];
type ErrorItem = Schemas["ErrorItem"];

/** The JSON body a path and method answer with for a status. */
type Answer<
  P extends keyof paths,
  M extends "get" | "post" | "put" | "patch" | "delete",
  S extends number,
> = paths[P][M] extends { responses: { [K in S]: { content: { "application/json": infer B } } } }
  ? B
  : never;

/** The JSON body a path and method take. */
type Body<P extends keyof paths, M extends "post" | "put" | "patch"> = paths[P][M] extends {
  requestBody?: { content: { "application/json": infer B } };
}
  ? B
  : never;

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly errors: ErrorItem[],
  ) {
    super(errors.map((e) => e.detail).join("; "));
  }

  /** The messages of one field (`attr`), e.g. `price` or `3.price` in a bulk write. */
  forField(attr: string): string[] {
    return this.errors.filter((e) => e.attr === attr).map((e) => e.detail);
  }
}

export class Client {
  private access: string | null = null;

  constructor(private readonly baseUrl: string) {}

  private async send<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (this.access !== null) headers["Authorization"] = `Bearer ${this.access}`;
    const init: RequestInit = { method, headers };
    if (body !== undefined) init.body = JSON.stringify(body);
    const response = await fetch(`${this.baseUrl}${path}`, init);
    const json = (await response.json()) as { success: boolean };
    if (!json.success) {
      const error = json as ErrorEnvelope;
      throw new ApiError(error.status, error.errors);
    }
    return json as T;
  }

  /** Sign in: keeps the access token, answers the refresh token. */
  async login(email: string, password: string): Promise<string> {
    const body: Body<"/api/v1/auth/login/", "post"> = { email, password };
    const answer = await this.send<Answer<"/api/v1/auth/login/", "post", 200>>(
      "POST",
      "/api/v1/auth/login/",
      body,
    );
    this.access = answer.data.access;
    return answer.data.refresh;
  }

  /** One page of products: names, prices and how many there are in all. */
  async productPage(page: number): Promise<{ names: string[]; total: number | null }> {
    const answer = await this.send<Answer<"/api/v1/catalog/products/", "get", 200>>(
      "GET",
      `/api/v1/catalog/products/?page=${page}`,
    );
    const names = answer.data.map((product) => `${product.name} (${product.final_price})`);
    const pagination = answer.meta.pagination;
    const total = "count" in pagination ? pagination.count : null;
    const next: string | null = pagination.next;
    void next;
    return { names, total };
  }

  /** Create one product: answers its id and the version to send with the next change. */
  async createProduct(
    product: Schemas["ProductWriteRequest"],
  ): Promise<{ id: string; version: number }> {
    const answer = await this.send<Answer<"/api/v1/catalog/products/", "post", 201>>(
      "POST",
      "/api/v1/catalog/products/",
      product,
    );
    const created = answer.data;
    if (Array.isArray(created)) throw new Error("one product was sent, an array came back");
    return { id: created.id, version: created.version };
  }

  /** Create many products at once: all or none; errors name the index (`3.price`). */
  async createProducts(products: Schemas["ProductWriteRequest"][]): Promise<string[]> {
    const body: Body<"/api/v1/catalog/products/", "post"> = products;
    const answer = await this.send<Answer<"/api/v1/catalog/products/", "post", 201>>(
      "POST",
      "/api/v1/catalog/products/",
      body,
    );
    const created = Array.isArray(answer.data) ? answer.data : [answer.data];
    return created.map((product) => product.id);
  }

  /** Change a product's price; a stale `version` is a 409 the caller can act on. */
  async reprice(
    id: string,
    price: string,
    version: number,
  ): Promise<"saved" | "stale" | ErrorItem[]> {
    const body: Body<"/api/v1/catalog/products/{id}/", "patch"> = { price, version };
    try {
      const answer = await this.send<Answer<"/api/v1/catalog/products/{id}/", "patch", 200>>(
        "PATCH",
        `/api/v1/catalog/products/${id}/`,
        body,
      );
      const saved: number = answer.data.version;
      return saved > version ? "saved" : "stale";
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      const conflict = error.errors.find((e) => e.code === "version_conflict");
      if (error.status === 409 && conflict !== undefined) return "stale";
      const attrs: (string | null)[] = error.errors.map((e) => e.attr);
      void attrs;
      return error.errors;
    }
  }

  /** Restore a soft-deleted product from the trash (admins): answers the product's name. */
  async restoreProduct(id: string): Promise<string> {
    const answer = await this.send<
      Answer<"/api/v1/trash/{model}/{id}/restore/", "post", 200>
    >("POST", `/api/v1/trash/catalog.product/${id}/restore/`);
    const restored = answer.data;
    return "name" in restored && typeof restored.name === "string" ? restored.name : id;
  }
}
