/** The site folder (and bucket prefix) holding the page: `web/index.html`, `web/site.json`, `web/assets/…`. */
export const WEB_FOLDER = 'web';
/** Files of the page whose names never change, so they are revalidated; everything else in web/ is content-hashed. */
export const SHORT_CACHE_FILES = ['index.html', 'site.json'];
