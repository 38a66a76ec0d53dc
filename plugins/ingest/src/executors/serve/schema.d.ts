export interface Schema {
  port?: number;
  host?: string;
}
