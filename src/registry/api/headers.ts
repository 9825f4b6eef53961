// Header names and values of the distribution API, shared by client and server.

export const Header = {
  contentDigest: 'docker-content-digest',
  apiVersion: 'docker-distribution-api-version',
  uploadUuid: 'docker-upload-uuid',
  ociSubject: 'oci-subject',
  ociFiltersApplied: 'oci-filters-applied',
  wwwAuthenticate: 'www-authenticate',
  location: 'location',
  range: 'range',
  contentRange: 'content-range',
  retryAfter: 'retry-after',
  link: 'link',
} as const;

/** What `/v2/` answers in Docker-Distribution-Api-Version. */
export const API_VERSION = 'registry/2.0';
