// IFERTrain sits on top of every library layer; the CLI imports only this module.
@_exported import IFERModels
@_exported import IFEROptim
@_exported import IFERData
@_exported import IFERCheckpoint
@_exported import IFERDist
@_exported import IFERLayers
@_exported import IFERIO
