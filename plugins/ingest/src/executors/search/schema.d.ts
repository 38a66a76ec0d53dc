export interface Schema {
  query?: string;
  json?: boolean;
  limit?: number;
}
