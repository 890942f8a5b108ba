"""Tests of build/ driven in-process without MkDocs: Analysis, Budget, Scheduler, Renderer,
BuildSession, serve's deferred generation."""
