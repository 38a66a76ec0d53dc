export interface Schema {
  query?: string;
  phrase?: boolean;
  json?: boolean;
  limit?: number;
}
