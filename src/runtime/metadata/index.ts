/**
 * Metadata: the key/value pairs that travel with a request, a response, a registry record or a broker
 * message (Go Micro's `metadata.Metadata`). A base type: every interface may import it, it imports nothing.
 */

/** Key/value metadata sent with a request or returned with a response (Go Micro's `metadata.Metadata`). */
export type Metadata = Record<string, string>;
