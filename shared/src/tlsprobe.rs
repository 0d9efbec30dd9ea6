//! TLS handshake probe: negotiated version and the presented chain, captured even when
//! verification fails. (Being written for the certificate checker.)
