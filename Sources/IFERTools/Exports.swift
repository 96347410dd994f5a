// IFERTools sits on top of IFERTrain: every benchmark and every `ifer dev` check program. The
// command line's bench and dev commands import only this module.
@_exported import IFERTrain
