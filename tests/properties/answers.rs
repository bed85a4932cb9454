//! Every board's answer reader on arbitrary and hostile bodies.
