import type { SearchOptions } from '@podline/search-index';

/** The search executor's options are the search lib's (see SEARCH_DEFAULTS). */
export type Schema = SearchOptions;
